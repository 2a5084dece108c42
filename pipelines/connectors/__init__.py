"""The sources: one declaration per provider, and the framework that turns them into assets."""
