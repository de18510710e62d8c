"""Scene-quality corpora: old-API scenes for the API rewrites (see corpus/)."""
