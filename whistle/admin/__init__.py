"""The admin area: accounts, channels, counts and the audit log — metadata only, nothing decrypts."""
