import ArgumentParser

@main
struct ExplicitLM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explicitlm",
        abstract: "A Qwen3 language model with an explicit, editable memory.",
        // In data-flow order: text, the backbone, sentence encoders, the memory, training data, training, its metrics; the main job.
        subcommands: [
            TokenizeCommand.self, DetokenizeCommand.self, ChatRenderCommand.self,
            LogitsCommand.self, GenerateCommand.self, InspectModelCommand.self,
            EmbedCommand.self,
            BuildMemoryCommand.self, MemoryCommand.self, RetrieveCommand.self, LabelCommand.self,
            ConvertOMCQCommand.self, PretrainCommand.self,
            TrainRouterCommand.self, TrainFusionCommand.self, TrainMemoryCommand.self, TrainJointCommand.self,
            EvalCommand.self, PlotCommand.self,
            DemoCommand.self,
        ])
}
