import Foundation
import Memory

/// The configuration of the memory training stages (method.md §8: `train-router`, `train-fusion`,
/// `train-memory`, `train-joint`), under the seed's dotted keys. The memory's own settings (method §0)
/// live in `memory`; `model.*` keys that are not memory settings, and every `dataset.*`,
/// `training.*` and `logging.*` key, are properties here.
public struct MemoryTrainingConfig: Sendable, Equatable {
    /// The stage of method.md §8.
    public enum Stage: String, Sendable, CaseIterable {
        case router, fusion, memory, joint
    }

    public var stage: Stage

    // model.*
    /// The frozen Qwen3 backbone (a Hugging Face model directory).
    public var qwen3ModelPath: String?
    /// The memory bank directory (build-memory), or the reference's knowledge_cache.pt to import.
    public var cachePath: String?
    /// With a .pt cache: the reference's keys.pt (otherwise fresh k-means).
    public var keysPath: String?
    /// model.max_seq_len: samples are cut to this many tokens.
    public var maxSeqLen = 512
    /// model.knowledge_num, knowledge_length, knowledge_dim, gate_rank, fusion_rank, retriever,
    /// fusion, memory_layers, embedder_path, gumbel_temperature, fusion_heads, fusion_head_dim,
    /// fusion_intermediate, share_gate; training.num_candidates and training.counterfactual_swap.
    public var memory = MemoryConfig()

    // dataset.*
    /// Conversations (fusion, memory) or {"text"} lines (joint).
    public var sftDatasetPath: String?
    public var sftValDatasetPath: String?
    /// Labelled router data (method §7): the router stage's training data, replayed in the memory stage.
    public var routerDatasetPath: String?
    public var routerValDatasetPath: String?
    /// A router checkpoint (memory_gate_epoch_<e>.safetensors, or any memory checkpoint with the gate).
    public var pretrainedRouterPath: String?
    /// A memory checkpoint whose MemoryNorm, fusion and α gate tensors start this stage.
    public var pretrainedFusionPath: String?
    /// The system turn put before every conversation (nil: none).
    public var systemMessage: String?
    /// Skip (and count) invalid data lines instead of failing.
    public var skipInvalid = false

    // training.*
    public var learningRate = 5e-5
    public var batchSize = 8
    public var accumulationSteps = 1
    public var epochs = 1
    /// Ends the run after this many optimizer steps; the schedule still spans `epochs`.
    public var maxSteps: Int?
    public var shuffle = true
    public var seed: UInt64 = 42
    public var weightDecay = 0.1
    public var gradClip = 1.0
    public var warmupRatio = 0.1
    public var similarityLossCoef = 0.1
    public var diversityLossCoef = 0.05
    /// T_r of the router loss's soft targets.
    public var routerTemperature = 0.5
    /// Evaluate every this many optimizer steps (0: only at the end).
    public var evalInterval = 0
    /// Validation items per evaluation.
    public var evalNumSamples = 200
    public var resume = false

    // logging.*
    public var outDir = "out"
    /// Default: `<outDir>/checkpoints`.
    public var saveDir: String?
    /// A progress line every this many optimizer steps.
    public var logInterval = 1
    /// A checkpoint every this many optimizer steps (0: only at the end).
    public var saveInterval = 500
    /// Accepted for the seed's scripts and ignored with a warning: there is no network.
    public var useSwanlab = false

    public init(stage: Stage) {
        self.stage = stage
    }

    public var checkpointDirectory: String { saveDir ?? URL(fileURLWithPath: outDir).appendingPathComponent("checkpoints").path }
}
