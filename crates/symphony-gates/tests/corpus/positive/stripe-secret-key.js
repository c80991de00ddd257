# expect: stripe-secret-key
const stripe = require('stripe')('sk_live_nruRj272WBKhr9swEvrswXmZTcVE4RLp');
