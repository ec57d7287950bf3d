/* The reject outputs as the core drives them: a sysfs value file, a GPIO
 * character-device line request (uAPI v2, no libgpiod: the same code on
 * libgpiod 1.6 and 2.x systems), or the simulated chip's shared edge log. */
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

static int find_line(int chip, const char *name, char *err, size_t errlen) {
  struct gpiochip_info info;
  if (ioctl(chip, GPIO_GET_CHIPINFO_IOCTL, &info) < 0) {
    snprintf(err, errlen, "not a GPIO chip: %s", strerror(errno));
    return -1;
  }
  for (unsigned i = 0; i < info.lines; i++) {
    struct gpio_v2_line_info li;
    memset(&li, 0, sizeof li);
    li.offset = i;
    if (ioctl(chip, GPIO_V2_GET_LINEINFO_IOCTL, &li) < 0) continue;
    if (strncmp(li.name, name, sizeof li.name) == 0) return (int)i;
  }
  snprintf(err, errlen, "no line named '%s' on %s (%u lines)", name, info.label, info.lines);
  return -1;
}

int rc_line_open_cdev(rc_line *l, const char *chip_path, int offset, const char *name, int active_low, int initial, int safe, char *err, size_t errlen) {
  memset(l, 0, sizeof *l);
  l->kind = RC_LINE_CDEV;
  l->safe = safe;
  l->fd = -1;
  int chip = open(chip_path, O_RDWR | O_CLOEXEC);
  if (chip < 0) {
    snprintf(err, errlen, "cannot open GPIO chip %s: %s", chip_path, strerror(errno));
    return -1;
  }
  if (name && name[0]) {
    offset = find_line(chip, name, err, errlen);
    if (offset < 0) {
      close(chip);
      return -1;
    }
  }
  struct gpio_v2_line_request req;
  memset(&req, 0, sizeof req);
  req.offsets[0] = (unsigned)offset;
  req.num_lines = 1;
  snprintf(req.consumer, sizeof req.consumer, "edge-inspect");
  req.config.flags = GPIO_V2_LINE_FLAG_OUTPUT | (active_low ? GPIO_V2_LINE_FLAG_ACTIVE_LOW : 0);
  req.config.num_attrs = 1;
  req.config.attrs[0].attr.id = GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES;
  req.config.attrs[0].attr.values = initial ? 1 : 0;
  req.config.attrs[0].mask = 1;
  if (ioctl(chip, GPIO_V2_GET_LINE_IOCTL, &req) < 0) {
    int e = errno;
    snprintf(err, errlen, "cannot request line %d on %s as output: %s%s", offset, chip_path, strerror(e), e == EBUSY ? " (held by another process: see gpioinfo)" : "");
    close(chip);
    return -1;
  }
  close(chip);
  l->fd = req.fd;
  return 0;
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
  if (l->fd >= 0) close(l->fd);
  l->fd = -1;
}
