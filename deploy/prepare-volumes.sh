#!/bin/sh
# Create the stack's named volumes and give them to the non-root user the containers run as
# (ATHENA_UID:ATHENA_GID, 3508:3508 unless set), before the first `docker compose up` or `docker stack
# deploy`. Run it on every node that will run a service with a volume (volumes are per node).
#
#   ./prepare-volumes.sh            the production stack
#   ./prepare-volumes.sh --devnet   also the devnet's volume
#
# Why: a new named volume is owned by root, or by whatever user the image's folder belonged to (999 in the
# redis image); a process running as UID 3508 cannot write there. This is the `chown` step the recipe
# never did. It runs a throw-away container of the athena-pool image as root, with no network, that only
# changes owner and mode of each volume's top folder and of what is already in it.
set -eu

uid=${ATHENA_UID:-3508}
gid=${ATHENA_GID:-3508}
image=${ATHENA_POOL_IMAGE:-athena-pool:local}
docker=${DOCKER:-docker}

volumes="athena-pool-daemon-data athena-pool-wallet-data athena-pool-redis-data athena-pool-redis-logs"
volumes="$volumes athena-pool-pool-data athena-pool-payments-data athena-pool-pool-logs"

case "${1:-}" in
    "") ;;
    --devnet) volumes="$volumes athena-pool-devnet-data" ;;
    *) echo "usage: $0 [--devnet]" >&2; exit 2 ;;
esac

for volume in $volumes; do
    "$docker" volume create "$volume" >/dev/null
    # The owner goes to the inner shell as $1 (single quotes on purpose: expanded there, not here).
    # shellcheck disable=SC2016
    "$docker" run --rm --network none --user 0:0 --entrypoint /bin/sh \
        --volume "$volume:/volume" "$image" \
        -c 'chown -R "$1" /volume && chmod 0750 /volume' sh "$uid:$gid"
    echo "$volume: owned by $uid:$gid"
done
