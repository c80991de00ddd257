# expect: sendgrid-api-key
sg = SendGrid::API.new(api_key: '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')
