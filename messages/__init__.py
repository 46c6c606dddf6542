"""What is said: the languages (a data folder each), their catalogues, the channel templates."""
