# expect: slack-token
client = WebClient(token="xoxb-089414359077-5465834750692-BfvWxrryPsatlISqHRN8KkAc")
