/*  frame_io.h — length-prefixed frames on the pipes between the executor
    parent and a sandbox child: u32 big-endian length, then that many bytes
    of UTF-8 JSON. Both directions, same format. */
#ifndef MCPBOX_FRAME_IO_H
#define MCPBOX_FRAME_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Largest frame either side accepts (a result: 4 MB JSON + 1 MB stdout,
//  escaped; an HTTP response: 10 MB base64).
#define FRAME_MAX (16u << 20)

//  Blocking: write one whole frame. 0 or -1 (errno set).
int frame_write (int fd, const void *data, size_t size);

//  Blocking: read one whole frame into a new NUL-terminated buffer.
//  NULL on EOF, error or a frame over max (errno EMSGSIZE).
char *frame_read (int fd, size_t max, size_t *size);

//  Incremental reader for a non-blocking fd inside a poll loop.
typedef struct {
    uint8_t  header [4];
    size_t   header_have;
    char    *data;              //  frame being filled
    size_t   size;              //  its announced size
    size_t   have;
    size_t   max;
} frame_reader_t;

void frame_reader_init (frame_reader_t *self, size_t max);
void frame_reader_clear (frame_reader_t *self);

typedef enum {
    FRAME_AGAIN = 0,    //  no complete frame yet, fd drained
    FRAME_READY,        //  *frame_p holds a frame (caller frees)
    FRAME_EOF,          //  writer closed
    FRAME_ERROR,        //  read error or oversized frame
} frame_status_t;

//  Read what is available; stops at the first complete frame.
frame_status_t frame_reader_feed (frame_reader_t *self, int fd,
                                  char **frame_p, size_t *size_p);

#endif
