"""The desk (`whistle desk URL`, docs/desk.md): a proxy on the guardian's own machine, on loopback.

The workspace's HTML comes from the server; every script and style comes from the package installed
here, under a Content-Security-Policy of the desk's own, so no script the server sends can run. The
organisation's key is pinned as whistle-report pins it (whistle.client.trust), every key directory
passing through is checked against that pin, and a form post carrying a plaintext field is refused
before it leaves this machine.

Runs on the guardian's machine: it imports whistle.client, whistle.crypto, the standard library and
waitress, nothing of the server's areas (tests/unit/test_architecture.py).
"""
