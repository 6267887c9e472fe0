# charts.gp - the report's look, shared by every chart: a 1280x720 (16:9) picture, text large
# enough to read at the back of a room (28 px: 3.9% of the height), the Okabe-Ito palette (safe
# for colour-blind readers) with a dash and a point of its own per strategy, and legends above
# the data. scripts/report writes DIR/data/charts.gp, which draws every chart with it:
#   gnuplot -e "dir='RUN'; term='svg'" scripts/charts.gp RUN/data/charts.gp     (or 'pngcairo')
# Both terminals run the same plot commands, so the PNG and the SVG show the same picture.

if (!exists('term')) term = 'pngcairo'
if (!exists('dir')) dir = '.'
ext = (term eq 'svg') ? 'svg' : 'png'
# pngcairo's fontscale 0.75 makes its points the svg terminal's pixels: 28 px in both
begin(name) = (term eq 'svg') ? \
	sprintf("set terminal svg size 1280,720 mouse standalone noenhanced font 'Sans,28' " . \
		"background rgb 'white'; set output '%s/charts/%s.svg'", dir, name) : \
	sprintf("set terminal pngcairo size 1280,720 noenhanced font 'Sans,28' fontscale 0.75 " . \
		"linewidth 1 background rgb 'white'; set output '%s/charts/%s.png'", dir, name)
ps_scale = (term eq 'svg') ? 0.6 : 1.2
table(name) = sprintf('%s/data/%s', dir, name)

# One line type per C strategy, in the order of `iostrat --list`: colour, dash and point.
set linetype 1 lc rgb '#D55E00' dt 1 lw 4 pt 7 ps 1.5 * ps_scale
set linetype 2 lc rgb '#0072B2' dt 2 lw 4 pt 5 ps 1.5 * ps_scale
set linetype 3 lc rgb '#009E73' dt 4 lw 4 pt 9 ps 1.7 * ps_scale
set linetype 4 lc rgb '#E69F00' dt 5 lw 4 pt 13 ps 1.7 * ps_scale
set linetype 5 lc rgb '#CC79A7' dt 3 lw 4 pt 11 ps 1.7 * ps_scale
set linetype 6 lc rgb '#56B4E9' dt 6 lw 4 pt 15 ps 1.5 * ps_scale
set linetype 7 lc rgb '#000000' dt 1 lw 3 pt 3 ps 1.5 * ps_scale
set linetype 8 lc rgb '#F0E442' dt 7 lw 4 pt 1 ps 1.5 * ps_scale
set linetype 9 lc rgb '#D55E00' dt 3 lw 4 pt 4 ps 1.5 * ps_scale
set linetype 10 lc rgb '#0072B2' dt 5 lw 4 pt 6 ps 1.5 * ps_scale
# The tutorial's Python, 20 further on: the colour of the C strategy it is set beside, in a
# panel of its own, with open points.
set linetype 21 lc rgb '#D55E00' dt (16, 6, 4, 6) lw 4 pt 6 ps 1.6 * ps_scale
set linetype 22 lc rgb '#0072B2' dt (16, 6, 4, 6) lw 4 pt 4 ps 1.6 * ps_scale
set linetype 23 lc rgb '#009E73' dt (16, 6, 4, 6) lw 4 pt 8 ps 1.6 * ps_scale
set linetype 24 lc rgb '#E69F00' dt (16, 6, 4, 6) lw 4 pt 12 ps 1.6 * ps_scale
set linetype 25 lc rgb '#CC79A7' dt (16, 6, 4, 6) lw 4 pt 10 ps 1.6 * ps_scale
set linetype 26 lc rgb '#56B4E9' dt (16, 6, 4, 6) lw 4 pt 14 ps 1.6 * ps_scale
set linetype 27 lc rgb '#000000' dt (16, 6, 4, 6) lw 4 pt 2 ps 1.6 * ps_scale
set linetype 28 lc rgb '#F0E442' dt (16, 6, 4, 6) lw 4 pt 3 ps 1.6 * ps_scale
set linetype 29 lc rgb '#D55E00' dt (16, 6, 4, 6) lw 4 pt 6 ps 1.6 * ps_scale
set linetype 30 lc rgb '#0072B2' dt (16, 6, 4, 6) lw 4 pt 4 ps 1.6 * ps_scale
set linetype 31 lc rgb '#777777' dt (16, 6, 4, 6) lw 4 pt 2 ps 1.6 * ps_scale
# the ideal, a reference line
set linetype 40 lc rgb '#333333' dt 1 lw 2 pt 0
# timelines: who ran a task (the same meaning in every panel)
set linetype 41 lc rgb '#0072B2' # the main thread of the main process
set linetype 42 lc rgb '#E69F00' # another thread of the main process
set linetype 43 lc rgb '#009E73' # another process

set grid lc rgb '#d8d8d8' lw 1 dt 1
set border lw 1.5
# the legend right of the data, at a fixed place: the plot ends at 72% of the width, so that
# both terminals lay it out alike (their estimates of text widths differ); its text 26 px
set termoption noenhanced
set rmargin at screen 0.72
set key at screen 0.735, screen 0.96 left top vertical Left reverse noopaque nobox samplen 1.5 \
	spacing 1.2 font ",26"
set style fill solid 0.9 border lc rgb '#333333'
set errorbars small
