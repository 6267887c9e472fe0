# charts.gp - the report's charts, drawn from the tables that iostrat-report writes in DIR/data.
#   gnuplot -e "dir='reports/latest'; term='pngcairo'" scripts/charts.gp     (or term='svg')
# Every chart is at least 1280x720 with a 16-point font, Okabe-Ito colours (safe for colour-blind
# readers) and a dash type of its own per strategy, so that it reads when projected. The
# tutorial's own Python (python-*) takes the colour of the C strategy it is compared with
# (colour_of, from vars.gp) with a dash and dot line and open points of its own.

load dir.'/data/vars.gp'
ext = (term eq 'svg') ? 'svg' : 'png'
termcmd(w, h) = (term eq 'svg') ? \
	sprintf("set terminal svg size %d,%d font 'Sans,16' background rgb 'white'", w, h) : \
	sprintf("set terminal pngcairo size %d,%d font 'Sans,16' background rgb 'white'", w, h)
out(name) = sprintf('%s/charts/%s.%s', dir, name, ext)
table(name) = sprintf('%s/data/%s', dir, name)

# One line type per strategy, by its place in the list of strategies: colour, dash, point.
set linetype 1 lc rgb '#D55E00' dt 1 lw 3 pt 7 ps 1.6
set linetype 2 lc rgb '#0072B2' dt 2 lw 3 pt 5 ps 1.6
set linetype 3 lc rgb '#009E73' dt 4 lw 3 pt 9 ps 1.8
set linetype 4 lc rgb '#E69F00' dt 5 lw 3 pt 13 ps 1.8
set linetype 5 lc rgb '#CC79A7' dt 3 lw 3 pt 11 ps 1.8
set linetype 6 lc rgb '#56B4E9' dt 6 lw 3 pt 15 ps 1.6
set linetype 7 lc rgb '#000000' dt 1 lw 2 pt 1 ps 1.6
set linetype 8 lc rgb '#F0E442' dt 7 lw 3 pt 3 ps 1.6
# the same colours for the tutorial's Python, 10 further on
set linetype 11 lc rgb '#D55E00' dt (16,5,3,5) lw 3 pt 6 ps 1.8
set linetype 12 lc rgb '#0072B2' dt (16,5,3,5) lw 3 pt 4 ps 1.8
set linetype 13 lc rgb '#009E73' dt (16,5,3,5) lw 3 pt 8 ps 2.0
set linetype 14 lc rgb '#E69F00' dt (16,5,3,5) lw 3 pt 12 ps 2.0
set linetype 15 lc rgb '#CC79A7' dt (16,5,3,5) lw 3 pt 10 ps 2.0
set linetype 16 lc rgb '#56B4E9' dt (16,5,3,5) lw 3 pt 14 ps 1.8
set linetype 17 lc rgb '#000000' dt (16,5,3,5) lw 2 pt 2 ps 1.6
set linetype 18 lc rgb '#F0E442' dt (16,5,3,5) lw 3 pt 4 ps 1.6
padded = ' '.strategies.' '
place(s) = words(substr(padded, 1, strstrt(padded, ' '.s.' '))) + 1
is_python(s) = strstrt(s, 'python-') == 1
lt_of(s) = is_python(s) ? 10 + place(word(colour_of, place(s))) : place(s)

set grid lc rgb '#d0d0d0' lw 1 dt 1
set border lw 1.5
set key opaque box lc rgb '#bbbbbb'
set style fill solid 0.85 border lc rgb '#333333'

# ---- 1. the tutorial's picture: one bar per task, from its start to its end -------------------
do for [name in 'demo http'] {
	list = value('timeline_'.name)
	n = words(list)
	if (n > 0) {
		xmax = 0
		do for [s in list] {
			stats table(sprintf('timeline-%s-%s.dat', name, s)) using 3 nooutput
			xmax = (STATS_max > xmax) ? STATS_max : xmax
		}
		h = (150 * n + 130 > 720) ? 150 * n + 130 : 720
		eval termcmd(1280, h)
		set output out('timeline-'.name)
		# equal panels: margins and spacing as fractions of the whole picture
		set multiplot layout n, 1 margins 0.13, 0.97, 90.0 / h, 1 - 60.0 / h spacing 0, 40.0 / h \
			title (name eq 'demo' ? demo_title : \
			"HTTP fetches: one bar per task, from request to parsed response") font ',18'
		set xrange [0:xmax * 1.02]
		set yrange [-0.6:*]
		set ytics 1
		set mytics 1
		set grid xtics noytics
		unset key
		do for [i = 1:n] {
			s = word(list, i)
			# a long name on two lines, so that it fits the panel's height
			set ylabel (is_python(s) ? "python-\n".s[8:]."\ntask" : s."\ntask") font ',17'
			if (i == n) { set xlabel 'seconds since the run began' ; set format x '%g' } \
			else { unset xlabel ; set format x '' }
			f = table(sprintf('timeline-%s-%s.dat', name, s))
			stats f using 1 nooutput
			set yrange [-0.6:STATS_max + 0.6]
			plot f using (($2 + $3) / 2):1:2:3:($1 - 0.36):($1 + 0.36):4 \
				with boxxyerror lc rgb variable fs solid 0.9 border lc rgb '#222222'
		}
		unset multiplot
		set grid xtics ytics
		set format x '%g'
		unset ylabel
		set autoscale
		set ytics autofreq
		set mytics default
	}
}

eval termcmd(1280, 720)
set key top left

# ---- 2. wall time against task count, log-log, with the ideal ---------------------------------
do for [w in workloads] {
	list = value('timed_'.w)
	if (words(list) > 0) {
		set output out('wall-'.w)
		set title sprintf('%s: wall time of the whole command against task count', w)
		set logscale xy
		set xlabel 'tasks (log scale)'
		set ylabel 'wall time, s (log scale)'
		set format y '%g'
		if (value('has_ideal_'.w)) {
			plot for [s in list] table(sprintf('wall-%s-%s.dat', w, s)) using 1:2:4:5 \
				with yerrorlines lt lt_of(s) title s, \
				table('ideal-'.w.'.dat') using 1:2 with lines lt 7 dt 1 lw 2 \
				title sprintf('ideal, all at once (%g ms)', value('delay_ms_'.w)), \
				'' using 1:3 with lines lt 7 dt 2 lw 2 title 'ideal, one after another'
		} else {
			plot for [s in list] table(sprintf('wall-%s-%s.dat', w, s)) using 1:2:4:5 \
				with yerrorlines lt lt_of(s) title s
		}
		unset logscale
		unset title
	}
}

# ---- 3. peak memory against task count: heap peak and total RSS -------------------------------
do for [w in workloads] {
	list = value('docs_'.w)
	if (words(list) > 0) {
		set output out('memory-'.w)
		set multiplot layout 1, 2 title sprintf('%s: peak memory against task count', w) font ',18'
		set key font ',14' spacing 0.9 samplen 2 # half a picture wide: the key must leave room
		set logscale xy
		set xlabel 'tasks (log scale)'
		set ylabel "heap peak, KiB (log scale)\npython-*: tracemalloc's" font ',15'
		plot for [s in list] table(sprintf('memory-%s-%s.dat', w, s)) using 1:($2 / 1024) \
			with linespoints lt lt_of(s) title s
		set ylabel 'RSS of all processes, MiB (log scale)' font ',16'
		plot for [s in list] table(sprintf('memory-%s-%s.dat', w, s)) using 1:($3 / 1048576) \
			with linespoints lt lt_of(s) title s
		unset multiplot
		set key font ',16' spacing 1 samplen 4
		unset logscale
	}
}

# ---- 4. overhead per task next to the bare cost of the primitive -----------------------------
if (overhead_rows > 0) {
	f = table('overhead.dat')
	# stats leaves STATS_* alone when no row is valid (every measured cost at or below zero,
	# as in a tiny run's noise): clear them first so a stale figure is never used
	undefine STATS_*
	stats f using ($3 > 0 ? $3 : NaN) nooutput
	lo1 = exists('STATS_min') ? STATS_min : 1.0 # 1.0: 1 / 2 would be 0 in integers
	undefine STATS_*
	stats f using ($4 > 0 ? $4 : NaN) nooutput
	lo2 = exists('STATS_min') ? STATS_min : lo1
	floor = 10 ** floor(log10(((lo1 < lo2) ? lo1 : lo2) / 2))
	set output out('overhead')
	set title 'What one more task costs, next to the bare kernel primitive'
	set logscale y
	set ylabel 'time per task, µs (log scale)'
	set xlabel 'strategy (bare primitive)'
	set xrange [-0.6:overhead_rows - 0.4]
	set yrange [floor:*]
	set grid noxtics ytics
	set key top right
	set xtics rotate by 20 right # the names would overlap side by side
	plot f using ($1 - 0.19):($3 > 0 ? $3 : NaN):($1 - 0.36):($1 - 0.02):(floor):($3 > 0 ? $3 : NaN):(lt_of(strcol(2))) \
		with boxxyerror lc variable fs solid 0.9 title 'measured per task, in the strategy', \
	     f using ($1 + 0.19):($4 > 0 ? $4 : NaN):($1 + 0.02):($1 + 0.36):(floor):($4 > 0 ? $4 : NaN):(lt_of(strcol(2))) \
		with boxxyerror lc variable fs pattern 4 title 'bare primitive alone (hatched)', \
	     f using 1:(floor):xtic(sprintf('%s (%s)', strcol(2), strcol(5))) with points ps 0 notitle, \
	     f using ($1 - 0.19):($3 > 0 ? $3 : NaN):(sprintf('%.3g', $3)) with labels offset 0,0.8 notitle, \
	     f using ($1 + 0.19):($4 > 0 ? $4 : NaN):(sprintf('%.3g', $4)) with labels offset 0,0.8 notitle
	unset logscale
	unset title
	set autoscale
	set xtics norotate
	set grid xtics ytics
	set key top left
}

# ---- 5. throughput against task count, and latency percentiles --------------------------------
do for [w in workloads] {
	list = value('docs_'.w)
	if (words(list) > 0) {
		set output out('throughput-'.w)
		set multiplot layout 1, 2 title sprintf('%s: throughput and latency', w) font ',18'
		set key font ',14' spacing 0.9 samplen 2
		set logscale xy
		set xlabel 'tasks (log scale)'
		set ylabel sprintf('throughput, %s (log scale)', value('unit_'.w))
		plot for [s in list] table(sprintf('memory-%s-%s.dat', w, s)) using 1:7 \
			with linespoints lt lt_of(s) title s
		unset logscale
		lat = table('latency-'.w.'.dat')
		set xlabel sprintf('strategy, at %d tasks', value('ref_'.w))
		set ylabel 'task latency, ms'
		set yrange [0:*]
		set offsets 0, 0, graph 0.15, 0
		set xrange [-0.6:*]
		set grid noxtics ytics
		set key top left
		set xtics rotate by 30 right # the names would overlap side by side
		plot lat using ($0 - 0.26):($3 * 1000):(0.24) with boxes lc rgb '#56B4E9' title 'p50', \
		     lat using ($0):($4 * 1000):(0.24) with boxes lc rgb '#0072B2' fs pattern 2 title 'p90', \
		     lat using ($0 + 0.26):($5 * 1000):(0.24) with boxes lc rgb '#D55E00' fs pattern 5 title 'p99', \
		     lat using 0:(0):xtic(2) with points ps 0 notitle
		unset multiplot
		set key font ',16' spacing 1 samplen 4
		set xtics norotate
		set offsets 0, 0, 0, 0
		set autoscale
		set grid xtics ytics
	}
}

# ---- 6. hyperfine's figures: mean, with the spread from min to max ----------------------------
do for [w in workloads] {
	list = value('timed_'.w)
	if (words(list) > 0) {
		lo = 1e9
		do for [s in list] {
			stats table(sprintf('hyperfine-%s-%s.dat', w, s)) using 3 nooutput
			lo = (STATS_min < lo) ? STATS_min : lo
		}
		floor = 10 ** floor(log10(lo / 2))
		bw = 0.8 / words(strategies) / 2
		clist = ''
		plist = ''
		do for [s in list] {
			if (is_python(s)) { plist = plist.' '.s } else { clist = clist.' '.s }
		}
		set output out('hyperfine-'.w)
		set title sprintf('%s: hyperfine, mean per command, whiskers from min to max', w)
		set logscale y
		set yrange [floor:*]
		set xrange [-0.6:value('ncounts_'.w) - 0.4]
		eval 'set xtics '.value('xtics_'.w)
		set xlabel 'tasks'
		set ylabel 'wall time, s (log scale)'
		set grid noxtics ytics
		plot for [s in clist] table(sprintf('hyperfine-%s-%s.dat', w, s)) \
			using 1:2:($1 - bw):($1 + bw):(floor):2 with boxxyerror lt lt_of(s) fs solid 0.8 title s, \
		     for [s in plist] table(sprintf('hyperfine-%s-%s.dat', w, s)) \
			using 1:2:($1 - bw):($1 + bw):(floor):2 with boxxyerror lt lt_of(s) fs pattern 4 title s, \
		     for [s in list] table(sprintf('hyperfine-%s-%s.dat', w, s)) \
			using 1:2:3:4 with yerrorbars lc rgb '#000000' pt 0 lw 2 notitle
		unset logscale
		unset title
		set autoscale
		set xtics autofreq
		set grid xtics ytics
	}
}
