"""Pricing: reference prices, price histories and paths, floor / CfD / levy mechanisms, members' stake."""
