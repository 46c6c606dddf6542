"""The funder report: its tables (`reports.funder`) and their files (`reports.files`: CSV, xlsx,
HTML). Both the command line and the coordinators' web app make the report from here."""
