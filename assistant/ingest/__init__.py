"""From a folder of files to chunks to index: walk, read (in a sandbox), chunk, embed, commit."""
