/*  frame_io.c — see frame_io.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "frame_io.h"

static int
s_write_all (int fd, const uint8_t *data, size_t size)
{
    while (size) {
        ssize_t n = write (fd, data, size);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        data += n;
        size -= (size_t) n;
    }
    return 0;
}

static int
s_read_all (int fd, uint8_t *data, size_t size)
{
    while (size) {
        ssize_t n = read (fd, data, size);
        if (n == 0)
            return -1;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        data += n;
        size -= (size_t) n;
    }
    return 0;
}

int
frame_write (int fd, const void *data, size_t size)
{
    if (size > FRAME_MAX) {
        errno = EMSGSIZE;
        return -1;
    }
    uint8_t header [4] = {
        (uint8_t) (size >> 24), (uint8_t) (size >> 16), (uint8_t) (size >> 8), (uint8_t) size
    };
    if (s_write_all (fd, header, 4))
        return -1;
    return s_write_all (fd, data, size);
}

char *
frame_read (int fd, size_t max, size_t *size_p)
{
    uint8_t header [4];
    if (s_read_all (fd, header, 4))
        return NULL;
    size_t size = ((size_t) header [0] << 24) | ((size_t) header [1] << 16)
                | ((size_t) header [2] << 8) | header [3];
    if (size > max) {
        errno = EMSGSIZE;
        return NULL;
    }
    char *data = malloc (size + 1);
    if (!data)
        return NULL;
    if (s_read_all (fd, (uint8_t *) data, size)) {
        free (data);
        return NULL;
    }
    data [size] = 0;
    if (size_p)
        *size_p = size;
    return data;
}

void
frame_reader_init (frame_reader_t *self, size_t max)
{
    memset (self, 0, sizeof *self);
    self->max = max;
}

void
frame_reader_clear (frame_reader_t *self)
{
    if (self->data)
        explicit_bzero (self->data, self->have);     //  a partial frame may hold a secret
    free (self->data);
    frame_reader_init (self, self->max);
}

frame_status_t
frame_reader_feed (frame_reader_t *self, int fd, char **frame_p, size_t *size_p)
{
    while (true) {
        if (self->header_have < 4) {
            ssize_t n = read (fd, self->header + self->header_have, 4 - self->header_have);
            if (n == 0)
                return FRAME_EOF;
            if (n < 0)
                return errno == EAGAIN || errno == EINTR ? FRAME_AGAIN : FRAME_ERROR;
            self->header_have += (size_t) n;
            if (self->header_have < 4)
                continue;
            self->size = ((size_t) self->header [0] << 24) | ((size_t) self->header [1] << 16)
                       | ((size_t) self->header [2] << 8) | self->header [3];
            if (self->size > self->max)
                return FRAME_ERROR;
            self->data = malloc (self->size + 1);
            if (!self->data)
                return FRAME_ERROR;
            self->have = 0;
        }
        if (self->have < self->size) {
            ssize_t n = read (fd, self->data + self->have, self->size - self->have);
            if (n == 0)
                return FRAME_EOF;
            if (n < 0)
                return errno == EAGAIN || errno == EINTR ? FRAME_AGAIN : FRAME_ERROR;
            self->have += (size_t) n;
            if (self->have < self->size)
                continue;
        }
        self->data [self->size] = 0;
        *frame_p = self->data;
        *size_p = self->size;
        self->data = NULL;
        self->header_have = 0;
        self->size = self->have = 0;
        return FRAME_READY;
    }
}
