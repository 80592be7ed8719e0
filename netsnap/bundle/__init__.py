"""Opening bundles safely: collector tarballs, extracted directories, sosreports, loose files."""
