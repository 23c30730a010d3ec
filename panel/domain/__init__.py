"""What the panel knows without Flask, Kafka or HTTP: who is signed in and what they may see."""
