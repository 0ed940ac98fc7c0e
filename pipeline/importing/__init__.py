"""``import``: existing news (an RSS 2.0 or Atom feed, a WordPress WXR export) → update files.

The way in for an organisation that adopts the pipeline with years of news on its current site,
as ``pelican-import`` and ``hugo import`` are for theirs. The parts, one job each:

- :mod:`.source` reads a file or an http(s) URL (size- and time-limited) and :mod:`.xmlparse`
  parses it safely (no entities, no network, no huge trees) and tells which format it is;
- :mod:`.rss`, :mod:`.atom` and :mod:`.wxr` turn one format each into :class:`.model.Feed`
  (dates through :mod:`.timestamps`);
- :mod:`.mapping` reads the small TOML file that maps categories to goal-17 targets;
- :mod:`.convert` sanitises HTML with nh3 and converts it to Markdown with markdownify;
- :mod:`.existing` lists the ids, slugs and names already in the content folder;
- :mod:`.plan` decides every file (name, front matter, body) and what needs a human, writing
  nothing; :mod:`.media` downloads images for ``--download-images``; :mod:`.writer` puts the
  files in place all together or not at all.

See docs/import.md.
"""
