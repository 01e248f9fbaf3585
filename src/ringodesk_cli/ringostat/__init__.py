"""Ringostat call logs: call records (``records``), phone numbers (``phones``), export readers
(``exports``), web-export header aliases (``columns``) and the parameter catalogue
(``catalogue``)."""
