// Encoders module.
