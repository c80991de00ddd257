# expect: none
token = get_token()
api_key = os.environ["API_KEY"]
secret_name = config.secret_name
tokenizer = Tokenizer("bert-base-uncased-v2")
