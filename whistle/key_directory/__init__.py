"""The signed key directory: the guardians' public keys the organisation key vouches for, the only
keys the server seals cases to (docs/crypto.md, "The signed key directory")."""
