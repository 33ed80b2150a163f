"""The simulated Cloudflare platform: Durable Objects, storage, alarms and the tracker in SimPy.

Simulated time is in milliseconds.
"""
