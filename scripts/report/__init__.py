"""report - make bench's report generator: reads one run folder and writes its charts
(gnuplot), report.md with appendix.md, index.html and slides.html."""
