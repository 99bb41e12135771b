"""The supply-chain atlas: validated, unit-normalised production and trade with provenance."""
