#!/bin/sh
# Creates mailroute's Kafka topics that do not exist yet; existing ones are left as they are, so the
# Job can run again at every install or upgrade. Topics: topics.txt (the topics of
# libs/messaging/src/events.ts and their dead-letter topics; a test keeps the two equal).
set -eu
: "${KAFKA_BROKERS:?KAFKA_BROKERS is not set (ConfigMap mailroute-kafka)}"
partitions="${KAFKA_TOPIC_PARTITIONS:-12}"
replication="${KAFKA_TOPIC_REPLICATION_FACTOR:-3}"
min_insync="${KAFKA_TOPIC_MIN_INSYNC_REPLICAS:-2}"
# TLS/SASL settings for the admin client, if the optional Secret mailroute-kafka-client provides them.
config=""
if [ -s /etc/mailroute/kafka-client/client.properties ]; then
  config="--command-config /etc/mailroute/kafka-client/client.properties"
fi
while read -r topic; do
  [ -z "$topic" ] && continue
  echo "topic $topic: partitions=$partitions replication-factor=$replication min.insync.replicas=$min_insync"
  # shellcheck disable=SC2086
  /opt/kafka/bin/kafka-topics.sh --bootstrap-server "$KAFKA_BROKERS" $config --create --if-not-exists \
    --topic "$topic" --partitions "$partitions" --replication-factor "$replication" \
    --config "min.insync.replicas=$min_insync"
done < /etc/mailroute/kafka-topics/topics.txt
echo "kafka topics: done"
