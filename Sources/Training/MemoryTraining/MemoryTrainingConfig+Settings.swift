import Memory

extension MemoryTrainingConfig: TrainingRunSettings {}

/// The memory training stages' keys: the shared training-run keys, the memory's own settings
/// under their method §0 names, and the stages' model, dataset, training and logging keys.
/// The memory keys' limits are MemoryConfig.validate()'s, checked by `validate()`.
extension MemoryTrainingConfig {
    public static let settingsTable = SettingsTable<MemoryTrainingConfig>(SettingKey.trainingRunKeys + memoryKeys + stageKeys)

    private static let memoryKeys: [SettingKey<MemoryTrainingConfig>] = [
        SettingKey("model.knowledge_num", \.memory.knowledgeNum, .integer, "N, the bank's capacity: a perfect square (the key grid is n × n)."),
        SettingKey("model.knowledge_length", \.memory.knowledgeLength, .integer, "L_k, tokens per memory entry."),
        SettingKey("model.knowledge_dim", optional: \.memory.knowledgeDim, .integer, "K, the key width (even); None: the embedder's width."),
        SettingKey("model.gate_rank", \.memory.gateRank, .rank, "r_g, the MemoryGate's rank; 0 or None: full rank."),
        SettingKey("model.fusion_rank", \.memory.fusionRank, .rank, "r_f, the fusion's rank; 0 or None: full rank."),
        SettingKey("model.retriever", \.memory.retriever, .choice, "Where candidates come from (method §4)."),
        SettingKey("model.fusion", \.memory.fusion, .choice, "How the selected entry enters the hidden state (method §5)."),
        SettingKey("model.memory_layers", optional: \.memory.memoryLayers, .integerList,
                   "Decoder layers followed by a memory step, increasing; None: all layers."),
        SettingKey("model.embedder_path", optional: \.memory.embedderPath, .path,
                   "A BERT-family sentence encoder for keys and the encoder retriever; None: the backbone."),
        SettingKey("model.gumbel_temperature", \.memory.gumbelTemperature, .number(.any), "τ, the fine-selection temperature (> 0)."),
        SettingKey("model.fusion_heads", \.memory.fusionHeads, .integer, "H_f, heads of the cross-attention fusion."),
        SettingKey("model.fusion_head_dim", \.memory.fusionHeadDim, .integer, "Head width of the cross-attention fusion."),
        SettingKey("model.fusion_intermediate", optional: \.memory.fusionIntermediate, .integer, "F of the swiglu fusion; None: D."),
        SettingKey("model.share_gate", \.memory.shareGate, .boolean, "One MemoryGate for every memory layer instead of one per layer."),
        SettingKey("training.num_candidates", \.memory.numCandidates, .integer, "C, candidates per sample handed to fine selection."),
        SettingKey("training.counterfactual_swap", \.memory.counterfactualSwap, .number(.any),
                   "Probability of the counterfactual swap in memory training (method §6), in 0...1."),
    ]

    private static let stageKeys: [SettingKey<MemoryTrainingConfig>] = [
        SettingKey("model.qwen3_model_path", optional: \.qwen3ModelPath, .path, "The frozen Qwen3 backbone (a Hugging Face model directory). Required."),
        SettingKey("model.cache_path", optional: \.cachePath, .path,
                   "The memory bank directory (build-memory), or the reference's knowledge_cache.pt to import. Required."),
        SettingKey("model.keys_path", optional: \.keysPath, .path, "With a .pt cache: the reference's keys.pt; None: fresh k-means."),
        SettingKey("dataset.sft_dataset_path", optional: \.sftDatasetPath, .path,
                   "Conversations (fusion, memory) or {\"text\"} lines (joint). Required by those stages."),
        SettingKey("dataset.sft_val_dataset_path", optional: \.sftValDatasetPath, .path, "Validation conversations or text."),
        SettingKey("dataset.router_dataset_path", optional: \.routerDatasetPath, .path,
                   "Labelled router data (method §7): the router stage's data (required there); replayed in the memory stage."),
        SettingKey("dataset.router_val_dataset_path", optional: \.routerValDatasetPath, .path, "Validation router data."),
        SettingKey("dataset.pretrained_router_path", optional: \.pretrainedRouterPath, .path,
                   "A router checkpoint, or any memory checkpoint with the gate, to start from."),
        SettingKey("dataset.pretrained_fusion_path", optional: \.pretrainedFusionPath, .path,
                   "A memory checkpoint whose MemoryNorm, fusion and α gate tensors start this stage."),
        SettingKey("dataset.system_message", optional: \.systemMessage, .text, "The system turn put before every conversation; None: none."),
        SettingKey("dataset.skip_invalid", \.skipInvalid, .boolean, "Skip (and count) invalid data lines instead of failing."),
        SettingKey("training.similarity_loss_coef", \.similarityLossCoef, .number(.nonNegative), "Weight of the similarity loss (method §6)."),
        SettingKey("training.diversity_loss_coef", \.diversityLossCoef, .number(.nonNegative), "Weight of the diversity loss (method §6)."),
        SettingKey("training.router_temperature", \.routerTemperature, .number(.positive), "T_r of the router loss's soft targets."),
        SettingKey("training.eval_interval", \.evalInterval, .integer(in: 0...Int(Int32.max)),
                   "Evaluate every this many optimizer steps (0: only at the end)."),
        SettingKey("training.eval_num_samples", \.evalNumSamples, .integer(in: 1...Int(Int32.max)), "Validation items per evaluation."),
        SettingKey("logging.log_interval", \.logInterval, .integer(in: 1...Int(Int32.max)), "A progress line every this many optimizer steps."),
        SettingKey("logging.use_swanlab", \.useSwanlab, .boolean, "Accepted for the seed's scripts and ignored with a warning: there is no network."),
    ]
}
