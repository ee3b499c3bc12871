"""The egress lab: the real bot attacked through ``\\play`` inside a private network namespace.

Only inside a user+network+mount namespace may off-machine addresses (cloud metadata, a LAN host) be
served and attacked for real: nothing can leave it. ``tests/e2e/test_egress_lab.py`` starts
``python -m tests.e2e.egress_lab.run`` under ``unshare -rmn`` and asserts on the JSON summary it prints.
"""
