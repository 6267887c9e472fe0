# written by iostrat-report from /tmp/s/20261125-165728-vm
strategies = "blocking processes threads epoll"
demo_title = "The tutorial's demo: 4 tasks sleeping a random 0 to 5 whole seconds, one bar per task"
timeline_demo = "blocking processes threads epoll"
timeline_http = ""
timed_sleep = "blocking processes threads epoll"
docs_sleep = "blocking processes threads epoll"
has_ideal_sleep = 1
delay_ms_sleep = 50
unit_sleep = "tasks/s"
ref_sleep = 64
ncounts_sleep = 6
xtics_sleep = '("1" 0, "4" 1, "16" 2, "64" 3, "256" 4, "1000" 5)'
workloads = "sleep"
overhead_rows = 4
