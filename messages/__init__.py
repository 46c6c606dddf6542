"""What is said: the message catalogue in five languages and the per-channel templates."""
