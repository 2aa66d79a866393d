1631209047761484608 33 29092 apache2 29092 accept4 > flags=0 
1631209047761520812 33 29092 apache2 29092 accept4 < fd=9(<4t>172.17.0.1:44536->172.17.0.2:80) tuple=172.17.0.1:44536->172.17.0.2:80 queuepct=0 queuelen=0 queuemax=511 
1631209047761541230 33 29092 apache2 29092 read > fd=9(<4t>172.17.0.1:44536->172.17.0.2:80) size=8000 
1631209047761553014 33 29092 apache2 29092 read < res=52 data=R0VUIC9pbmRleC5waHA/Y21kPWlkIEhUVFAvMS4xDQpIb3N0OiAxNzIuMTcuMC4yDQoNCg== 
1631209047761600000 33 29092 apache2 29092 clone > 
1631209047762000000 33 29100 apache2 29100 clone < res=0 exe=/usr/sbin/apache2 args=LWsAc3RhcnQA tid=29100(apache2) pid=29100(apache2) ptid=29092(apache2) cwd=/ fdlimit=8192 pgft_maj=0 pgft_min=0 vm_size=2396 vm_rss=4 vm_swap=0 comm=apache2 cgroups=Y3B1c2V0PS9kb2NrZXIvOGMxZgA= flags=25165824(CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID) uid=33 gid=33 vtid=29100(apache2) vpid=29100(apache2) 
1631209047762100000 33 29092 apache2 29092 clone < res=29100(apache2) exe=/usr/sbin/apache2 args=LWsAc3RhcnQA tid=29092(apache2) pid=29092(apache2) ptid=29064(apache2) cwd=/ fdlimit=8192 pgft_maj=0 pgft_min=0 vm_size=2396 vm_rss=4 vm_swap=0 comm=apache2 cgroups=Y3B1c2V0PS9kb2NrZXIvOGMxZgA= flags=25165824(CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID) uid=33 gid=33 vtid=29092(apache2) vpid=29092(apache2) 
1631209047762200000 33 29100 apache2 29100 execve > filename=/bin/sh 
1631209047762400000 33 29100 sh 29100 execve < res=0 exe=sh args=LWMAaWQA tid=29100(sh) pid=29100(sh) ptid=29092(apache2) cwd=/var/www/html fdlimit=8192 pgft_maj=0 pgft_min=30 vm_size=2396 vm_rss=4 vm_swap=0 comm=sh cgroups=Y3B1c2V0PS9kb2NrZXIvOGMxZgA= env=UEFUSD0vdXNyL2JpbgA= tty=0 pgid=29064(apache2) loginuid=-1 
1631209047762500000 33 29100 sh 29100 read > fd=3(<f>/usr/bin/id) size=832 
1631209047762510000 33 29100 sh 29100 read < res=832 data=f0VMRgIBAQAAAAAA 
1631209047762600000 33 29100 sh 29100 write > fd=1(<p>) size=34 
1631209047762610000 33 29100 sh 29100 write < res=34 data=dWlkPTMzKHd3dy1kYXRhKSBnaWQ9MzMod3d3LWRhdGEpCg== 
1631209047762700000 33 29100 sh 29100 exit_group > status=0 
1631209047762710000 33 29100 sh 29100 procexit > status=0 
