# expect: generic-secret-assignment
DATABASE_PASSWORD = 'kJLUw!cN^QeDvUjS93Fx'
