"""A reference model of an Effect-based durable-workflow engine on Durable Objects.

Pure Python: the engine yields operations (`engine.ops`) and never touches time, I/O or SimPy.
"""
