# host/host.mk — libsomhop (static) and the somhop CLI.
#
# Sources are picked up by wildcard, so adding a file needs no edit here:
#   host/src/*.c      -> $(BUILD)/lib/libsomhop.a
#   host/src/cli/*.c  -> $(BUILD)/bin/somhop
# Public headers: host/include/somhop/*.h. The kernels' fixed-point
# contract (kernels/somhop_fixed.h) is on the include path too.

HOST_SRCS     := $(wildcard host/src/*.c)
HOST_OBJS     := $(HOST_SRCS:%.c=$(BUILD)/obj/%.o)
CLI_SRCS      := $(wildcard host/src/cli/*.c)
CLI_OBJS      := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)
LIBSOMHOP     := $(BUILD)/lib/libsomhop.a
SOMHOP_BIN    := $(BUILD)/bin/somhop

HOST_INC      := -Ihost/include -Ikernels -Isim/include
PNG_CFLAGS    := $(shell pkg-config --cflags libpng 2>/dev/null)
PNG_LIBS      := $(shell pkg-config --libs libpng 2>/dev/null || echo -lpng)
# Everything a program that links libsomhop needs after it.
SOMHOP_LIBS   := $(PNG_LIBS) -lOpenCL -lpthread -lm

ALL_TARGETS += $(LIBSOMHOP) $(SOMHOP_BIN)

$(BUILD)/obj/host/%.o: host/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(HOST_INC) $(PNG_CFLAGS) -c $< -o $@

$(LIBSOMHOP): $(HOST_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(SOMHOP_BIN): $(CLI_OBJS) $(LIBSOMHOP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $(CLI_OBJS) $(LIBSOMHOP) $(SOMHOP_LIBS)
