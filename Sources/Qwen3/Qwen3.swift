// Qwen3 module.
