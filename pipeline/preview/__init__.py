"""The local preview: the built site served as the real host would, rebuilt on every edit."""
