#!/bin/sh
# Write the two files of secrets that are not in git, next to this script or
# in the directory given as $1 (the Asterisk config directory, e.g. /etc/asterisk):
#
#   manager_secret.conf  secret=... of the AMI user [minhu]; taken from
#                        MINHU_AMI_SECRET when set, so that Minhu and Asterisk
#                        share it, else random (then give it to Minhu).
#   pjsip_secrets.conf   a random password for every [<name>-auth] section of
#                        pjsip.d/*.conf; the carrier's password from
#                        MINHU_CARRIER_PASSWORD (the carrier's work order).
#
# Existing files are kept: delete one to regenerate it.
set -eu

dir=${1:-$(dirname "$0")}
umask 077

random_secret() {
    od -An -tx1 -N16 /dev/urandom | tr -d ' \n'
}

if [ ! -e "$dir/manager_secret.conf" ]; then
    secret=${MINHU_AMI_SECRET:-$(random_secret)}
    printf '; AMI secret of [minhu]; give the same value to Minhu as MINHU_AMI_SECRET.\nsecret=%s\n' \
        "$secret" >"$dir/manager_secret.conf"
    echo "wrote $dir/manager_secret.conf"
fi

if [ ! -e "$dir/pjsip_secrets.conf" ]; then
    {
        echo '; Passwords of the auth objects in pjsip.d/*.conf (generate-secrets.sh).'
        for name in $(sed -n 's/^\[\([A-Za-z0-9_-]*-auth\)\].*/\1/p' "$dir"/pjsip.d/*.conf | sort -u); do
            if [ "$name" = carrier-auth ]; then
                password=${MINHU_CARRIER_PASSWORD:-SET-THE-CARRIER-PASSWORD}
            else
                password=$(random_secret)
            fi
            printf '\n[%s](+)\npassword=%s\n' "$name" "$password"
        done
    } >"$dir/pjsip_secrets.conf"
    echo "wrote $dir/pjsip_secrets.conf"
fi
