"""The reporter's side after submitting: coming back with the receipt, the case mailbox."""
