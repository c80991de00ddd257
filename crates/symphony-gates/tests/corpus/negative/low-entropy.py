# expect: none
password = "aaaaaaaaaaaaaaaaaaaaaa"
token = "1111111111111111"
