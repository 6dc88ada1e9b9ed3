# Script mode for embed_file.cmake: IN -> OUT as a byte array named SYMBOL.
cmake_minimum_required(VERSION 3.25)
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" hex_length)
math(EXPR size "${hex_length} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE ${OUT}.tmp "/* Generated from ${IN}; do not edit. */\n#include <stddef.h>\nconst char ${SYMBOL} [] = {${bytes}0x00};\nconst size_t ${SYMBOL}_size = ${size};\n")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
