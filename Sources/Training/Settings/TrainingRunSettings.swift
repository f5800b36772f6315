/// The settings every training command shares (pretrain and the memory stages), under the same
/// keys, types and help; each configuration declares only the keys that are its own.
public protocol TrainingRunSettings {
    var maxSeqLen: Int { get set }
    var learningRate: Double { get set }
    var batchSize: Int { get set }
    var accumulationSteps: Int { get set }
    var epochs: Int { get set }
    var maxSteps: Int? { get set }
    var shuffle: Bool { get set }
    var seed: UInt64 { get set }
    var weightDecay: Double { get set }
    var gradClip: Double { get set }
    var warmupRatio: Double { get set }
    var resume: Bool { get set }
    var outDir: String { get set }
    var saveDir: String? { get set }
    var saveInterval: Int { get set }
}

extension SettingKey where Config: TrainingRunSettings {
    /// Counts have ceilings, so that the schedule's step counts and the batch buffers cannot overflow.
    public static var trainingRunKeys: [SettingKey] {
        let steps = Int(Int32.max)
        return [
            SettingKey("model.max_seq_len", \.maxSeqLen, .integer(in: 2...(1 << 20)), "Samples are cut to this many tokens."),
            SettingKey("training.learning_rate", \.learningRate, .number(.positive), "Peak learning rate of the warmup-then-cosine schedule."),
            SettingKey("training.batch_size", \.batchSize, .integer(in: 1...(1 << 16)), "Samples per micro-batch."),
            SettingKey("training.accumulation_steps", \.accumulationSteps, .integer(in: 1...(1 << 16)),
                       "Micro-batches whose gradients make one optimizer step."),
            SettingKey("training.epochs", \.epochs, .integer(in: 1...(1 << 20)), "Passes over the training data; the schedule spans them all."),
            SettingKey("training.max_steps", optional: \.maxSteps, .integer(in: 1...steps),
                       "Ends the run after this many optimizer steps; the schedule still spans training.epochs."),
            SettingKey("training.shuffle", \.shuffle, .boolean, "Shuffle the data order each epoch."),
            SettingKey("training.seed", \.seed, .unsignedInteger, "Seeds the data order and every other random choice of the run."),
            SettingKey("training.weight_decay", \.weightDecay, .number(.nonNegative), "AdamW's decoupled weight decay."),
            SettingKey("training.grad_clip", \.gradClip, .number(.positive), "The global gradient norm is clipped to this."),
            SettingKey("training.warmup_ratio", \.warmupRatio, .number(.unitInterval), "Fraction of the optimizer steps spent warming up linearly."),
            SettingKey("training.resume", \.resume, .boolean,
                       "Continue from the checkpoint in logging.save_dir, if there is one (its data, schedule and model settings must match)."),
            SettingKey("logging.out_dir", \.outDir, .path, "Where metrics.jsonl and, by default, the checkpoints go."),
            SettingKey("logging.save_dir", optional: \.saveDir, .path, "The checkpoint directory; None: <logging.out_dir>/checkpoints."),
            SettingKey("logging.save_interval", \.saveInterval, .integer(in: 0...steps), "A checkpoint every this many optimizer steps (0: only at the end)."),
        ]
    }
}
