"""What a call should create (pure): policy, planner, routing, hours, texts."""
