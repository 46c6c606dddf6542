"""The coordinators' web app under /coordinator/: sign-in by e-mail, pages and downloads."""
