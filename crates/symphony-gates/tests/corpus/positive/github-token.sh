# expect: github-token
#!/bin/sh
curl -H "Authorization: token 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" https://api.github.com/user
