"""The live runtime: the engine's operations replayed by a Durable Object on workerd."""
