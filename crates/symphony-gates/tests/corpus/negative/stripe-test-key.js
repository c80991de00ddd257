# expect: none
const stripe = require('stripe')('sk_test_u9zQBjxdvAHdPVgVK9icP5wI34E8td6E');
