"""``python -m services.gateway.seed``: demo clients (added with token authentication)."""

if __name__ == "__main__":
    print("gateway: no demo clients yet (token authentication is not enabled).")
