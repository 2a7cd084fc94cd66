"""The guardian's workspace: the inbox, the case page, and what a guardian does to a case, as pages and as JSON."""
