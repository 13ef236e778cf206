global-incdirs-y += .
srcs-y += bigbuf_ta.c
