# expect: huggingface-token
login("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")
