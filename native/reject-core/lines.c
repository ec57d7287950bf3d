/* The reject outputs as the core drives them: a sysfs value file, a GPIO
 * character-device line request (uAPI v2), or the simulated chip's shared
 * edge log. */
#include "core.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/gpio.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* SimulatedGpio's layout (daemon/actuation/simulated-gpio.ts): Int32 header
 * [0] edges written, [1 + i] logical state of line i; then per log slot a
 * sequence, a line and a value (Int32 each) and a time (Float64). */
#define SIM_MAX_LINES 64
#define SIM_LOG 65536
#define SIM_HEADER (2 + SIM_MAX_LINES)

static void sim_write(rc_line *l, int active) {
  int32_t *header = l->shm;
  int32_t *seq = header + SIM_HEADER, *line = seq + SIM_LOG, *value = line + SIM_LOG;
  double *time = (double *)(value + SIM_LOG);
  int32_t v = active ? 1 : 0;
  double t = rc_now_ms();
  if (__atomic_exchange_n(&header[1 + l->index], v, __ATOMIC_SEQ_CST) == v) return;
  int32_t n = __atomic_fetch_add(&header[0], 1, __ATOMIC_SEQ_CST);
  int slot = (int)((uint32_t)n % SIM_LOG);
  line[slot] = l->index;
  value[slot] = v | ((active != l->active_low ? 1 : 0) << 1);
  time[slot] = t;
  __atomic_store_n(&seq[slot], n + 1, __ATOMIC_SEQ_CST);
}

void rc_line_simulated(rc_line *l, int32_t *shm, int index, int active_low, int safe) {
  memset(l, 0, sizeof *l);
  l->kind = RC_LINE_SIMULATED;
  l->fd = -1;
  l->shm = shm;
  l->index = index;
  l->active_low = active_low;
  l->safe = safe;
}

int rc_line_open_sysfs(rc_line *l, const char *path, int safe, char *err, size_t errlen) {
  memset(l, 0, sizeof *l);
  l->kind = RC_LINE_SYSFS;
  l->safe = safe;
  /* Exported and configured (direction, active_low) by the main thread's driver; the value file takes the logical level. */
  l->fd = open(path, O_RDWR | O_CLOEXEC);
  if (l->fd < 0) {
    snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
    return -1;
  }
  return 0;
}

void rc_line_cdev(rc_line *l, int fd, int safe) {
  memset(l, 0, sizeof *l);
  l->kind = RC_LINE_CDEV;
  l->safe = safe;
  /* The main thread's driver (chardev-gpio.ts) holds the line request, active-low applied by the kernel: only the value is set here. */
  l->fd = fd;
}

void rc_line_set(rc_line *l, int active) {
  switch (l->kind) {
    case RC_LINE_SIMULATED:
      sim_write(l, active);
      break;
    case RC_LINE_SYSFS:
      if (pwrite(l->fd, active ? "1" : "0", 1, 0) != 1) l->errors++;
      break;
    case RC_LINE_CDEV: {
      struct gpio_v2_line_values v = {.bits = active ? 1u : 0u, .mask = 1u};
      if (ioctl(l->fd, GPIO_V2_LINE_SET_VALUES_IOCTL, &v) < 0) l->errors++;
      break;
    }
  }
}

void rc_line_close(rc_line *l) {
  /* The cdev request belongs to the driver that made it. */
  if (l->fd >= 0 && l->kind == RC_LINE_SYSFS) close(l->fd);
  l->fd = -1;
}
