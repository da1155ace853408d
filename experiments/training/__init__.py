"""The trainer core the studies share: batches, the packed forward pass, the optimizer update, exact match."""
